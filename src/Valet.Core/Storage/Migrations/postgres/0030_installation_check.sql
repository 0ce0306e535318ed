-- Facts about the installation as a whole; 'check' recognises the installation key that wrote the database.
CREATE TABLE installation (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
