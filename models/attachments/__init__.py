"""Attachments: photos, files and voice kept by content hash, linked to their message and ticket."""
