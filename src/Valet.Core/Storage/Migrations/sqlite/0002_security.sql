-- API tokens of users: only the keyed hash of a value is kept; revoking deletes the row.
CREATE TABLE api_token (
    uuid TEXT NOT NULL PRIMARY KEY,
    user_key TEXT NOT NULL REFERENCES user_account(id_key) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NULL,
    last_used_at INTEGER NULL,
    use_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_token_user ON api_token(user_key);

-- Sign-in cookie sessions: the keyed hash of the cookie value, and a stamp of the password it was
-- opened with, so a password change ends the user's sessions.
CREATE TABLE sign_in_session (
    hash BLOB NOT NULL PRIMARY KEY,
    user_key TEXT NOT NULL REFERENCES user_account(id_key) ON DELETE CASCADE,
    password_stamp BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sign_in_session_user ON sign_in_session(user_key);
