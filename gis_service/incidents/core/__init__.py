"""The incident rules, with no I/O: where a report is placed, who handles it, every deadline,
handing up, the lifecycle table and the next history row. Every write path (intake, group
commit, actions, the scheduler, bulk import, plan publication and its sweep) calls these; none
carries its own copy. Reading and writing the database is the job of the modules around it."""
