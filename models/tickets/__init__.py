"""Tickets: the one lifecycle, the ticket service, SLA policy and work calendar, deadlines and the sweeper."""
