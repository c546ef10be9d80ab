/**
 * Loaded by jest before every test file's own imports: the local provider's name resolution (see
 * local/resolve.ts) is in place before any client library keeps a reference to `dns.lookup`.
 */
import '../local/resolve';
