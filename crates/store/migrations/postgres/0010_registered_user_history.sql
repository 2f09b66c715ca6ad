-- A registered user's assignments are the issuer's record of who was allotted and paid what
-- (issue 12): deleting the user no longer cascades to them. The store refuses to delete a user
-- with assignments (400); this constraint makes the database refuse it too. NO ACTION (checked
-- at the end of the statement) rather than RESTRICT, so that a statement deleting both (an
-- issuer's whole data) still works.
ALTER TABLE assignments DROP CONSTRAINT assignments_registered_user_id_fkey;
ALTER TABLE assignments ADD CONSTRAINT assignments_registered_user_id_fkey
    FOREIGN KEY (registered_user_id) REFERENCES registered_users (id) ON DELETE NO ACTION;
