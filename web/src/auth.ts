// Sign-in. In dev mode the gateway authenticates every socket itself, so the
// app needs no token. Outside dev mode the settings come from the gateway's
// public GET /api/auth/config and the user signs in through Auth0's SPA SDK:
// Universal Login with the Authorization Code flow and PKCE, the access token
// renewed with rotating refresh tokens.
import { createAuth0Client, type Auth0Client } from "@auth0/auth0-spa-js";

export interface Auth {
  getToken(): Promise<string | undefined>;
  signOut(): void;
  user?: { email?: string };
}

/** The body of GET /api/auth/config (openapi.yaml, AuthConfig). */
interface AuthConfig {
  domain: string;
  clientId: string;
  audience: string;
  devMode: boolean;
}

const noToken: Auth = {
  getToken: async () => undefined,
  signOut: () => {},
};

/** Where the IdP sends the browser back: the app's root, on any path it was opened. */
const callbackURL = () => window.location.origin + "/";

async function loadConfig(): Promise<AuthConfig> {
  const res = await fetch("/api/auth/config", { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`reading the sign-in settings: HTTP ${res.status}`);
  return (await res.json()) as AuthConfig;
}

/** The path the user was on before the IdP round trip, kept in the SDK's appState. */
interface AppState {
  returnTo?: string;
}

export async function getAuth(): Promise<Auth> {
  const cfg = await loadConfig();
  if (cfg.devMode) return noToken;
  if (!cfg.domain || !cfg.clientId || !cfg.audience) {
    throw new Error("the gateway requires sign-in but lacks AUTH0_DOMAIN, AUTH0_CLIENT_ID or AUTH0_AUDIENCE");
  }

  const client: Auth0Client = await createAuth0Client({
    // The SDK adds https:// to a bare host and uses a full URL as written,
    // which is how the local IdP on http://127.0.0.1 is reached.
    domain: cfg.domain.replace(/\/+$/, ""),
    clientId: cfg.clientId,
    authorizationParams: { audience: cfg.audience, redirect_uri: callbackURL(), scope: "openid profile email offline_access" },
    // Kept across reloads: browsers that block third-party cookies break the
    // SDK's hidden-iframe renewal, so a memory cache would send the user
    // back through the login page on every reload. Refresh tokens rotate,
    // so a stolen one stops working once the app uses its successor.
    useRefreshTokens: true,
    cacheLocation: "localstorage",
  });

  const params = new URLSearchParams(window.location.search);
  if (params.has("state") && (params.has("code") || params.has("error"))) {
    // Back from the IdP. The code is single-use, so the URL is cleaned
    // whatever happens: a reload must not try it again.
    let returnTo = "/";
    try {
      const result = await client.handleRedirectCallback<AppState>();
      returnTo = result.appState?.returnTo ?? "/";
    } finally {
      window.history.replaceState(null, "", returnTo);
    }
  }

  if (!(await client.isAuthenticated())) {
    const appState: AppState = { returnTo: window.location.pathname + window.location.search + window.location.hash };
    await client.loginWithRedirect<AppState>({ appState });
    // The page is navigating to the IdP; nothing below should run.
    return new Promise<Auth>(() => {});
  }

  const user = await client.getUser();
  return {
    getToken: () => client.getTokenSilently({ authorizationParams: { audience: cfg.audience } }),
    signOut: () => void client.logout({ logoutParams: { returnTo: callbackURL() } }),
    user: { email: user?.email },
  };
}
