"""medletter: fine-tune a local LLM on a radiation-oncology department's letters and draft new ones."""

__version__ = "0.1.0"
