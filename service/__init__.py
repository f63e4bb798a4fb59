"""claimdesk: who said what, where, when, about whom — and where they disagree."""

__version__ = "0.1.0"
