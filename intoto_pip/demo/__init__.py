"""``intoto-pip demo``: the whole supply chain, played on built-in data in a scratch folder.

``story.play`` runs the steps through intoto-pip's public commands; ``narration`` holds the
events it tells (the CLI prints them); ``shell`` runs a command as a user would type it;
``tamper`` is the attacker's wheel rewrite; ``snapshot`` proves a refused install changed
nothing. ``data/`` holds the sample project (with its own tiny build backend) and the layout.
"""

from intoto_pip.demo.story import StoryError, StoryOptions, StoryResult, play

__all__ = ["StoryError", "StoryOptions", "StoryResult", "play"]
