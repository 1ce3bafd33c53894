"""Messages in and out: the persist-first inbox, the outbox, coordination between instances, engagement."""
