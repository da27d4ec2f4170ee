import { beforeEach, describe, expect, it } from "vitest";
import { account } from "../test/helpers";
import { forgetUser, oweSignOut, rememberUser, rememberedUser, signOutOwed, signOutPaid } from "./session";

beforeEach(() => localStorage.clear());

describe("the account remembered on the device", () => {
  it("is forgotten on sign-out, but only if it is the one signing out", () => {
    rememberUser(account({ id: 2 })); // another tab signed in as account 2
    forgetUser(1); // the tab of account 1 hears it was signed out
    expect(rememberedUser()?.id).toBe(2);
    forgetUser(2);
    expect(rememberedUser()).toBeNull();
    rememberUser(account({ id: 3 }));
    forgetUser();
    expect(rememberedUser()).toBeNull();
  });
});

describe("an owed sign-out", () => {
  it("remembers the account it is owed for until paid", () => {
    expect(signOutOwed()).toBeNull();
    oweSignOut(5);
    expect(signOutOwed()).toBe("5");
    signOutPaid();
    expect(signOutOwed()).toBeNull();
  });
});
