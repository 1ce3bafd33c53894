"""The platform exchange (12345 and other municipal platforms): webhooks out, work orders in, Open311."""
