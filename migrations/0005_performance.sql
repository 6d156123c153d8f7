-- Every replica caches clients in memory; any change to a client, however it is made,
-- notifies them all so the cache entry is dropped at once.
CREATE FUNCTION notify_client_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('passport_clients', coalesce(NEW.id, OLD.id));
    RETURN NULL;
END $$;
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
    FOR EACH ROW EXECUTE FUNCTION notify_client_change();
