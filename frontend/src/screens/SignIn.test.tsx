import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SignIn } from "./SignIn";
import { json, problem, stubFetch } from "../test/helpers";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("SignIn", () => {
  it("shows the server's detail when sign in fails", async () => {
    stubFetch(() => problem(400, "invalid_credentials", "Email or password is not right."));
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Email" }), "a@example.com");
    await user.type(screen.getByLabelText("Password"), "wrong password");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Email or password is not right.");
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it("signs in and hands over the user", async () => {
    const calls = stubFetch(() => json({ user: { id: 1, email: "a@example.com", plan: "free" } }));
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Email" }), " a@example.com ");
    await user.type(screen.getByLabelText("Password"), "secret words");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalledWith({ id: 1, email: "a@example.com", plan: "free" }));
    expect(calls[0]!.url).toBe("/api/v1/auth/login");
    expect(calls[0]!.body).toEqual({ email: "a@example.com", password: "secret words" });
  });

  it("creates an account, then signs in", async () => {
    const user1 = { id: 2, email: "new@example.com", plan: "free" };
    const calls = stubFetch((url) => (url.endsWith("/signup") ? json({ user: user1, token: "t" }, 201) : json({ user: user1 })));
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} />);
    const user = userEvent.setup();
    // As the browser tests do: "Create account" opens the form, then submits it.
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(screen.getAllByRole("button", { name: /create account/i })).toHaveLength(1);
    expect(screen.queryByRole("button", { name: /sign in/i })).not.toBeInTheDocument();
    await user.type(screen.getByRole("textbox", { name: "Email" }), "new@example.com");
    await user.type(screen.getByLabelText("Password"), "a long password");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalledWith(user1));
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/signup", "/api/v1/auth/login"]);
  });
});
