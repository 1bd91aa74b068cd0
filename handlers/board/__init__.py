"""The board on the web: a coordinator's live view of their slots in the browser, opened
from a one-use `/board` link, with the chat's actions on it."""
