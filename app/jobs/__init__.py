"""Background jobs. The jobs table is the truth; the queue only delivers job ids.

Huey runs a task at most once and forgets it if its worker dies. So a job is enqueued only after
the transaction that created it commits, a worker claims it with a conditional update, renews a
lease while it works, and a reaper re-enqueues jobs whose lease lapsed (failing them after
`max_attempts`) and queued jobs whose delivery was lost. Handlers must be idempotent: a job may
run again after a worker died mid-way.
"""
