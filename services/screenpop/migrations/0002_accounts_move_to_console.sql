-- People's accounts and sessions now belong to the console (services/console/migrations). Screenpop keeps
-- only the calls it has seen and each extension's current pop.
DROP TABLE sessions;
DROP TABLE extensions;
DROP TABLE agents;
DROP TABLE teams;
