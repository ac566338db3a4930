"""The chat dock's parts: messages, conversations, settings, Enhance and the actions on the canvas side."""
