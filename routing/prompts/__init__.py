"""System prompts: templates (``templates.py``) and their rendering into provider blocks (``render.py``)."""
