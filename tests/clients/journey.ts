// An integrator's first day, with TypeScript types generated from openapi/openapi.json
// (openapi-typescript) and openapi-fetch: a token, a new account, the list with paging
// and search, one account, a partial update and a delete. Checked with `tsc --strict`
// (which also proves that a body missing a required field does not compile), then run
// by tests/tests/api/clients.rs with API_BASE, API_USERNAME and API_PASSWORD set.

import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
// Node's own; declared here so the check needs no @types package.
declare const process: { env: Record<string, string | undefined> };

function check(ok: boolean, what: string, value?: unknown): void {
  if (!ok) {
    throw new Error(`${what}: ${JSON.stringify(value)}`);
  }
}

// The server requires these: leaving one out is a type error.
// @ts-expect-error `username` is required
const noUsername: Schemas["SignupRequest"] = {
  first_name: "A", last_name: "B", email: "a@example.com", mobile: "+15550000000",
  password: "p", security_question: "q", security_answer: "a",
};
void noUsername;
// An update sends only what changes.
const rename: Schemas["UpdateUserRequest"] = { last_name: "Murray Hopper" };

const env = process.env;
const baseUrl = env.API_BASE ?? "";
const anonymous = createClient<paths>({ baseUrl });
const issued = await anonymous.POST("/api/v1/auth/token", {
  body: { username: env.API_USERNAME ?? "", password: env.API_PASSWORD ?? "" },
});
// A 2xx is the token, or (202) the second factor this account does not have.
const bearer = issued.data && "access_token" in issued.data ? issued.data : undefined;
check(bearer?.token_type === "Bearer", "token", issued.error);
const api = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${bearer?.access_token}` },
});

const account: Schemas["CreateUserRequest"] = {
  first_name: "Grace", last_name: "Hopper", username: "grace", email: "grace@example.com",
  mobile: "+15550001906", password: "compiler cobol nanosecond 1906",
  security_question: "First computer?", security_answer: "harvard mark one", role: "user",
};
const created = await api.POST("/api/v1/users", { body: account });
check(created.response.status === 201 && created.data?.username === "grace", "create", created.error);
const id = created.data!.id;

const first = await api.GET("/api/v1/users", {
  params: { query: { page: 1, per_page: 1, sort: "username" } },
});
check(first.data?.total === 2 && first.data.items.length === 1, "first page", first.data);
const second = await api.GET("/api/v1/users", {
  params: { query: { per_page: 1, sort: "username", cursor: first.data!.next ?? undefined } },
});
check(second.data?.items[0]?.username === "grace", "next page", second.data);
const found = await api.GET("/api/v1/users", { params: { query: { q: "hopper" } } });
check(found.data?.items.length === 1 && found.data.items[0].id === id, "search", found.data);

const fetched = await api.GET("/api/v1/users/{id}", { params: { path: { id } } });
check(fetched.data?.email === "grace@example.com", "get", fetched.data);
const updated = await api.PUT("/api/v1/users/{id}", { params: { path: { id } }, body: rename });
check(
  updated.data?.last_name === "Murray Hopper" && updated.data.first_name === "Grace",
  "update",
  updated.error ?? updated.data,
);
const gone = await api.DELETE("/api/v1/users/{id}", { params: { path: { id } } });
check(gone.response.status === 204, "delete", gone.error);
const missing = await api.GET("/api/v1/users/{id}", { params: { path: { id } } });
check(missing.response.status === 404 && missing.error?.error.code === "not_found", "gone", missing.error);
console.log("typescript client: ok");
