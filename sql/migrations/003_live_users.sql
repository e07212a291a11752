-- The one definition of a user that can act: not the funding user (id 0),
-- not deleted. A simple view, so it is updatable: statements that change a
-- live user UPDATE live_users and cannot touch a deleted one by mistake.

CREATE VIEW live_users AS
    SELECT * FROM users WHERE id <> 0 AND deleted_at IS NULL;
