-- The assignments by receiving script (issue #15): the chain follower looks up, for each
-- transaction spending a treasury's outputs, only the unpaid distribution batches that pay one
-- of its output scripts (`Store::outstanding_distribution_batches_to`), instead of reading
-- every outstanding assignment for every such transaction.

CREATE INDEX assignments_script ON assignments (script_pubkey);
