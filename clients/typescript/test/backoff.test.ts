import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelay } from "../src/index.js";

describe("backoffDelay", () => {
  it("doubles from the minimum, caps at the maximum, and jitters within the upper half", () => {
    assert.equal(backoffDelay(0, 100, 5000, () => 0), 50);
    assert.equal(backoffDelay(0, 100, 5000, () => 1), 100);
    assert.equal(backoffDelay(3, 100, 5000, () => 1), 800);
    assert.equal(backoffDelay(3, 100, 5000, () => 0), 400);
    assert.equal(backoffDelay(10, 100, 5000, () => 1), 5000);
    assert.equal(backoffDelay(1000, 100, 5000, () => 0.5), 3750);
  });
});
