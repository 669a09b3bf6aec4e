-- Channels' notes on a case's timeline: a consumer's message (an email, a chat) landed on a case that was
-- already open, or a reply could not be delivered.
INSERT INTO action_code (code, label, is_response, position) VALUES
    ('message_received', 'Message received from the consumer', false, 5),
    ('message_not_delivered', 'A message to the consumer was not delivered', false, 6)
ON CONFLICT (code) DO NOTHING;
