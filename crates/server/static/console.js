// Steward console: small progressive enhancements. Every form works without
// this file except the logo cropper.
"use strict";

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.dialog);
    if (dialog) {
      opener.closest("details.menu")?.removeAttribute("open");
      dialog.showModal();
      dialog.querySelector("input:not([type=hidden]), select, textarea, button")?.focus();
    }
    return;
  }
  const closer = event.target.closest("[data-close]");
  if (closer) {
    closer.closest("dialog")?.close();
    return;
  }
  // A click outside an open actions menu closes it.
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});

// An open menu floats above the page (fixed to where its button is), so a
// table's scrolling box never clips it; it opens upward when there is no room
// below. Scrolling closes it rather than leaving it behind.
document.querySelectorAll("details.menu").forEach((menu) => {
  menu.addEventListener("toggle", () => {
    const items = menu.querySelector(".menu-items");
    if (!items) return;
    if (!menu.open) { items.removeAttribute("style"); return; }
    const button = menu.querySelector("summary").getBoundingClientRect();
    items.style.position = "fixed";
    items.style.right = `${Math.max(8, window.innerWidth - button.right)}px`;
    const height = items.getBoundingClientRect().height;
    const below = window.innerHeight - button.bottom;
    items.style.top = below >= height + 8 || below >= button.top
      ? `${button.bottom + 4}px`
      : `${Math.max(8, button.top - height - 4)}px`;
  });
});
const closeMenus = () => document.querySelectorAll("details.menu[open]").forEach((m) => m.removeAttribute("open"));
window.addEventListener("scroll", closeMenus, { passive: true });
document.querySelectorAll(".table-wrap").forEach((box) => box.addEventListener("scroll", closeMenus, { passive: true }));

// Dialogs that should open on load (a form came back with errors).
document.querySelectorAll("dialog[data-open]").forEach((d) => d.showModal());

// Typed confirmations: the submit button waits for the exact slug.
document.querySelectorAll("input[data-must-equal]").forEach((input) => {
  const button = input.form.querySelector("button[type=submit]");
  const check = () => { button.disabled = input.value.trim() !== input.dataset.mustEqual; };
  input.addEventListener("input", check);
  check();
});

// Slugs follow the name until edited by hand.
function slugify(text) {
  return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
}
document.querySelectorAll("[data-slug-source]").forEach((source) => {
  const target = document.querySelector(source.dataset.slugSource);
  if (!target || target.dataset.auto !== "1") return;
  source.addEventListener("input", () => { if (target.dataset.auto === "1") target.value = slugify(source.value); });
  target.addEventListener("input", () => { target.dataset.auto = "0"; });
});

// The logo: choose a file, move and zoom a square crop box, upload.
(function logo() {
  const file = document.getElementById("logo-file");
  if (!file) return;
  const stage = document.getElementById("crop-stage");
  const image = document.getElementById("crop-image");
  const box = document.getElementById("crop-box");
  const zoom = document.getElementById("crop-zoom");
  const upload = document.getElementById("logo-upload");
  const error = document.getElementById("logo-error");
  const remove = document.getElementById("logo-remove");
  let crop = { x: 0, y: 0, size: 0 }; // in the image's own pixels
  let scale = 1; // displayed pixels per image pixel

  const showError = (text) => { error.textContent = text; error.hidden = !text; };
  const place = () => {
    box.style.left = `${crop.x * scale}px`;
    box.style.top = `${crop.y * scale}px`;
    box.style.width = box.style.height = `${crop.size * scale}px`;
  };
  const clamp = () => {
    const w = image.naturalWidth, h = image.naturalHeight;
    crop.size = Math.max(1, Math.min(crop.size, w, h));
    crop.x = Math.max(0, Math.min(crop.x, w - crop.size));
    crop.y = Math.max(0, Math.min(crop.y, h - crop.size));
  };

  file.addEventListener("change", () => {
    showError("");
    const chosen = file.files[0];
    if (!chosen) return;
    if (chosen.size > 2 * 1024 * 1024) {
      showError("This file is larger than 2 MB. Choose a smaller PNG, JPG or SVG.");
    }
    image.onload = () => {
      document.getElementById("cropper").hidden = false;
      scale = stage.clientWidth / image.naturalWidth;
      crop.size = Math.min(image.naturalWidth, image.naturalHeight);
      crop.x = (image.naturalWidth - crop.size) / 2;
      crop.y = (image.naturalHeight - crop.size) / 2;
      zoom.value = 100;
      place();
      upload.disabled = false;
    };
    image.onerror = () => { upload.disabled = false; }; // the server explains what is wrong
    image.src = URL.createObjectURL(chosen);
  });

  zoom.addEventListener("input", () => {
    const full = Math.min(image.naturalWidth, image.naturalHeight);
    const centre = { x: crop.x + crop.size / 2, y: crop.y + crop.size / 2 };
    crop.size = full * zoom.value / 100;
    crop.x = centre.x - crop.size / 2;
    crop.y = centre.y - crop.size / 2;
    clamp(); place();
  });

  let drag = null;
  box.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY, start: { ...crop } }; box.setPointerCapture(e.pointerId); });
  box.addEventListener("pointermove", (e) => {
    if (!drag) return;
    crop.x = drag.start.x + (e.clientX - drag.x) / scale;
    crop.y = drag.start.y + (e.clientY - drag.y) / scale;
    clamp(); place();
  });
  box.addEventListener("pointerup", () => { drag = null; });
  box.addEventListener("keydown", (e) => {
    const step = Math.max(1, crop.size / 20);
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (!moves[e.key]) return;
    e.preventDefault();
    crop.x += moves[e.key][0]; crop.y += moves[e.key][1];
    clamp(); place();
  });

  upload.addEventListener("click", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    showError("");
    upload.disabled = true;
    const query = crop.size > 0 ? `?crop_x=${crop.x.toFixed(2)}&crop_y=${crop.y.toFixed(2)}&crop_size=${crop.size.toFixed(2)}` : "";
    const response = await fetch(`/api/v1/organization/logo${query}`, {
      method: "PUT",
      headers: { "Content-Type": chosen.type || "application/octet-stream", "X-CSRF-Token": upload.dataset.csrf },
      body: chosen,
    });
    if (response.ok) {
      window.location.assign("/settings/organization/details?notice=logo_saved");
      return;
    }
    const problem = await response.json().catch(() => ({}));
    showError(problem.detail || "The upload failed. Try again.");
    upload.disabled = false;
  });

  remove?.addEventListener("click", async () => {
    const response = await fetch("/api/v1/organization/logo", { method: "DELETE", headers: { "X-CSRF-Token": remove.dataset.csrf } });
    if (response.ok) window.location.assign("/settings/organization/details?notice=logo_removed");
    else showError("The logo could not be removed. Try again.");
  });
})();

// A minute before the session would end for inactivity, offer to stay.
(function idleWarning() {
  let idle = Number(document.body.dataset.idleSeconds || 0);
  const banner = document.getElementById("idle-warning");
  if (!idle || !banner) return;
  let warnTimer, endTimer;
  const arm = () => {
    clearTimeout(warnTimer); clearTimeout(endTimer);
    banner.hidden = true;
    warnTimer = setTimeout(() => {
      banner.hidden = false;
      endTimer = setTimeout(() => {
        window.location.assign(`/login?expired=1&next=${encodeURIComponent(window.location.pathname)}`);
      }, 60 * 1000);
    }, Math.max(idle - 60, 1) * 1000);
  };
  // Lets the browser tests use a short timeout instead of waiting minutes.
  window.stewardSetIdle = (seconds) => { idle = seconds; arm(); };
  document.getElementById("stay-signed-in").addEventListener("click", async () => {
    // Any signed-in request slides the idle timeout forward.
    const response = await fetch("/api/v1/me", { credentials: "same-origin" });
    if (response.ok) arm();
    else window.location.assign("/login?expired=1");
  });
  arm();
})();

// A button with `data-copy="#field"` copies that field's text (a new API key).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    document.execCommand("copy");
  }
  button.textContent = "Copied";
});

// Radios with `data-reveal="<id>"` show that element only while the one
// marked `data-reveals` is chosen (a key's own permissions list).
document.addEventListener("change", (event) => {
  const radio = event.target.closest("input[type=radio][data-reveal]");
  if (!radio) return;
  const target = document.getElementById(radio.dataset.reveal);
  const chooser = document.querySelector(`input[data-reveal="${radio.dataset.reveal}"][data-reveals]`);
  if (target && chooser) target.hidden = !chooser.checked;
});

// Rows with `data-report-pending` (Billing → Reports) follow their report
// until it is written; then the page reloads to show its download link.
(() => {
  const rows = [...document.querySelectorAll("tr[data-report-pending]")];
  if (rows.length === 0) return;
  const poll = async () => {
    let waiting = false;
    for (const row of rows) {
      const response = await fetch(`/api/v1/reports/${row.dataset.reportPending}`, { credentials: "same-origin" });
      if (!response.ok) continue;
      const report = await response.json();
      const bar = row.querySelector("progress");
      const status = row.querySelector("[data-report-status]");
      if (bar) bar.value = report.progress;
      if (status) status.textContent = report.status;
      if (report.status === "queued" || report.status === "running") waiting = true;
    }
    if (waiting) window.setTimeout(poll, 1000);
    else window.location.reload();
  };
  window.setTimeout(poll, 800);
})();
