/**
 * Polls `probe` until it returns a value (anything but undefined), and returns that value. An error
 * the probe throws ends the wait with that error; a probe that expects "not there yet" errors (an
 * object not yet written, say) catches them itself.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
