-- The config.xml last posted for an item, secrets sealed: elements Valet does not use are written back from it.
CREATE TABLE item_xml (
    item_id INTEGER PRIMARY KEY REFERENCES item(id) ON DELETE CASCADE,
    xml TEXT NOT NULL
);
