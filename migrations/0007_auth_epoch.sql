-- auth_epoch moves whenever an account's credentials or sign-ins are reset: password
-- changed, signed out everywhere, two factors switched on or off, deletion scheduled or
-- undone. A half-finished sign-in (the "password was right, now the code" step, the
-- restore page) carries the epoch it started under and is void once the epoch moves.
ALTER TABLE accounts ADD COLUMN auth_epoch integer NOT NULL DEFAULT 0;
