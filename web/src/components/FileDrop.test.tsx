import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { fakeClient, renderWith } from "../test/render";
import { FileDrop, IMAGE_ACCEPT } from "./FileDrop";

describe("FileDrop", () => {
  it("is a labelled button whose input is labelled too, and shows the service's error", () => {
    const { client } = fakeClient(() => undefined);
    renderWith(
      <FileDrop label="Main image" hint="JPEG, PNG or WebP" accept={IMAGE_ACCEPT} error="Not an image." onFiles={() => {}} />,
      client,
    );
    const zone = screen.getByRole("button", { name: "Main image" });
    expect(zone.getAttribute("aria-invalid")).toBe("true");
    const message = screen.getByRole("alert");
    expect(message.textContent).toBe("Not an image.");
    expect(zone.getAttribute("aria-describedby")).toBe(message.id);
    expect(screen.getByLabelText("Main image file").getAttribute("type")).toBe("file");
  });

  it("hands over accepted files and refuses others by type", async () => {
    const { client } = fakeClient(() => undefined);
    const onFiles = vi.fn();
    renderWith(<FileDrop label="Main image" hint="" accept={IMAGE_ACCEPT} onFiles={onFiles} />, client);
    const input = screen.getByLabelText("Main image file");
    const png = new File(["x"], "a.png", { type: "image/png" });
    fireEvent.change(input, { target: { files: [png] } });
    await waitFor(() => expect(onFiles).toHaveBeenCalledWith([png], expect.anything()));

    const text = new File(["x"], "notes.txt", { type: "text/plain" });
    fireEvent.change(input, { target: { files: [text] } });
    await waitFor(() => expect(screen.getByRole("alert").textContent).toMatch(/“notes.txt” isn't a file this accepts/));
    expect(onFiles).toHaveBeenCalledOnce();
  });
});
