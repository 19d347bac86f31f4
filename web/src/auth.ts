// Sign-in. In dev mode the gateway authenticates every socket itself, so
// the app needs no token. Outside dev mode the settings come from
// GET /api/auth/config and sign-in runs through Auth0's SPA SDK.
export interface Auth {
  getToken(): Promise<string | undefined>;
  signOut(): void;
  user?: { email?: string };
}

interface AuthConfig {
  domain?: string;
  clientId?: string;
  audience?: string;
  devMode?: boolean;
}

const noToken: Auth = {
  getToken: async () => undefined,
  signOut: () => {},
};

export async function getAuth(): Promise<Auth> {
  let cfg: AuthConfig | undefined;
  try {
    const res = await fetch("/api/auth/config", { headers: { Accept: "application/json" } });
    if (res.ok) cfg = (await res.json()) as AuthConfig;
  } catch {
    // No configuration route: a gateway that authenticates sockets itself.
  }
  if (!cfg || cfg.devMode || !cfg.domain || !cfg.clientId) return noToken;
  // Interactive sign-in arrives with the Auth0 SDK; until then the socket
  // is opened without a token and the gateway answers with its error.
  return noToken;
}
