/* "Keep this link" on the participant page: one tap saves the drawer's link.
 *
 * The phone's own share sheet where it has one (navigator.share: notes, messages, mail);
 * else the link is copied to the clipboard; else, where the clipboard is refused, the link is
 * selected in its field for the drawer to copy. Without JavaScript the button stays hidden and
 * the link is there, as text, to copy by hand. Every word shown comes from the page (its
 * data-* attributes), in the drawer's language. */
(function () {
  "use strict";
  const button = document.getElementById("keep-link-button");
  const field = document.getElementById("keep-link-url");
  const status = document.getElementById("keep-link-status");
  if (!button || !field || !status) return;

  function say(text) {
    status.textContent = text;
  }

  function select() {
    field.focus();
    field.select();
    try {
      field.setSelectionRange(0, field.value.length); // iOS Safari selects nothing otherwise
    } catch (error) {
      /* an input type that has no selection range: select() did it */
    }
  }

  async function copy(url) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      try {
        await navigator.clipboard.writeText(url);
        select(); // shows what was copied
        say(button.dataset.copied);
        return;
      } catch (error) {
        /* refused (no permission, not focused): select it instead */
      }
    }
    select();
    try {
      if (document.execCommand && document.execCommand("copy")) {
        say(button.dataset.copied);
        return;
      }
    } catch (error) {
      /* not supported: the selection is there to copy by hand */
    }
    say(button.dataset.selected);
  }

  async function keep() {
    const url = field.value;
    say("");
    if (navigator.share) {
      try {
        await navigator.share({ url: url, title: button.dataset.title });
        say(button.dataset.shared);
        return;
      } catch (error) {
        if (error && error.name === "AbortError") return; // the drawer closed the share sheet
        /* no share target, or not allowed here: copy instead */
      }
    }
    await copy(url);
  }

  button.addEventListener("click", () => {
    keep();
  });
  button.hidden = false;
})();
