-- The OUTSCALE Regions the marketplace publishes to (PROD-4, ORG-1), with display names in the
-- two languages of the platform (MAIL-1).
CREATE TABLE regions (
    name            text PRIMARY KEY,
    display_name_en text NOT NULL,
    display_name_fr text NOT NULL,
    position        int  NOT NULL
);
INSERT INTO regions (name, display_name_en, display_name_fr, position) VALUES
    ('cloudgouv-eu-west-1', 'France - SecNumCloud (cloudgouv-eu-west-1)', 'France - SecNumCloud (cloudgouv-eu-west-1)', 1),
    ('eu-west-2', 'France (eu-west-2)', 'France (eu-west-2)', 2);
