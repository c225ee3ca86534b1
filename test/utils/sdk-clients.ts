import { createClient, type ClientOptions, type SwitchyardClient, type SwitchyardError } from '@switchyard/client-sdk';

/**
 * Real SDK clients for e2e tests, with settings that make reconnects and polls quick, every
 * background failure collected in `errors`, and all of them closed by `closeAll` (afterEach).
 */
export class SdkClients {
  readonly errors: SwitchyardError[] = [];
  private readonly clients: SwitchyardClient[] = [];

  /** @param target - read at each creation (the service and token usually exist only after beforeAll). */
  constructor(
    private readonly appName: string,
    private readonly target: () => { readonly url: string; readonly token: string },
  ) {}

  async create(options: Partial<ClientOptions> = {}): Promise<SwitchyardClient> {
    const { url, token } = this.target();
    const client = await createClient({
      url,
      token,
      appName: this.appName,
      initTimeoutMs: 5_000,
      heartbeatTimeoutMs: 2_000,
      pollIntervalMs: 500,
      backoff: { initialMs: 50, maxMs: 500 },
      onError: (e) => this.errors.push(e),
      ...options,
    });
    this.clients.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
  }
}
