"""The widgets of the Excerpta TUI."""

from .chat import AnswerEntry, ChatLog, CitationView, Notice, QuestionEntry
from .help import HelpScreen
from .question import QuestionInput
from .source import SourcePane
from .status import IndexProgress, StatusBar

__all__ = [
    "AnswerEntry",
    "ChatLog",
    "CitationView",
    "HelpScreen",
    "IndexProgress",
    "Notice",
    "QuestionEntry",
    "QuestionInput",
    "SourcePane",
    "StatusBar",
]
