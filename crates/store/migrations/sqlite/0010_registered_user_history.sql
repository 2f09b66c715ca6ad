-- A registered user's assignments are the issuer's record of who was allotted and paid what
-- (issue 12): deleting the user must not cascade to them. The store refuses to delete a user
-- with assignments (400); this trigger makes the database refuse it too (SQLite cannot alter a
-- foreign key without rebuilding the table, and the trigger runs before the cascade).
CREATE TRIGGER registered_users_keep_assignment_history
BEFORE DELETE ON registered_users
WHEN EXISTS (SELECT 1 FROM assignments WHERE registered_user_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'registered user has assignment history');
END;
