-- What the test producer has committed, one row per event number, written with the event.
CREATE TABLE produced (seq bigint PRIMARY KEY);
