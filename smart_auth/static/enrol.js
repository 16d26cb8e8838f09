// The one-time-code page: count down the code's lifetime; offer "send again" when it ends.
"use strict";
(function () {
  const box = document.getElementById("countdown");
  const resend = document.getElementById("resend");
  if (!box || !resend) return;
  const persian = box.dataset.lang === "fa";
  const digits = (text) => (persian ? text.replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : text);
  const end = Date.now() + Number(box.dataset.seconds) * 1000;
  function tick() {
    const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
    if (left > 0) {
      const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
      box.textContent = box.dataset.valid.replace("{time}", digits(clock));
      resend.disabled = true;
      setTimeout(tick, 1000);
    } else {
      box.textContent = box.dataset.expired;
      resend.disabled = false;
    }
  }
  tick();
})();
