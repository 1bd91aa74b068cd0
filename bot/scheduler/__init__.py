"""The clock of Renfort. APScheduler only says "now is a good time to look"; every job
derives what is due from the database (slots, applications, dedupe keys in the outbox), so
a restart, a crash or a second worker loses nothing and sends nothing twice."""
