// Runs in a book page once it has loaded (selenium execute_async_script; the callback is the
// last argument). Waits for MathJax and the images, then reports what is wrong, by category.
// Used by tests/browser_util.py (check_page).
const done = arguments[arguments.length - 1];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const out = {math: [], images: [], outputs: [], links: [], nMath: 0, nImages: 0,
               nProofs: document.querySelectorAll("div.proof").length};
  // --- MathJax: loaded, finished typesetting, no errors, nothing left raw.
  const mathEls = Array.from(document.querySelectorAll("span.math, div.math"));
  out.nMath = mathEls.length;
  const mjScript = document.querySelector("script[src*='mathjax']");
  if (mjScript) {
    for (let i = 0; i < 100 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
      await sleep(50);
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise;
    } else {
      out.math.push("MathJax did not load from " + mjScript.getAttribute("src"));
    }
  } else if (mathEls.length) {
    out.math.push(mathEls.length + " math elements but no MathJax script on the page");
  }
  mathEls.forEach((el) => {
    if (!el.querySelector("mjx-container"))
      out.math.push("not typeset: " + el.textContent.trim().slice(0, 80));
  });
  const errors = new Set();
  document.querySelectorAll("mjx-merror, [data-mjx-error]").forEach((el) => {
    errors.add("MathJax error: " + (el.getAttribute("data-mjx-error") || el.textContent).slice(0, 80));
  });
  errors.forEach((e) => out.math.push(e));
  const skip = new Set(["SCRIPT", "STYLE", "PRE", "CODE", "TEXTAREA", "MJX-CONTAINER", "NOSCRIPT", "KBD", "SAMP"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let p = node.parentElement; p; p = p.parentElement) {
        if (skip.has(p.tagName) || p.classList.contains("highlight")) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  const raw = [/\\\(|\\\)|\\\[|\\\]/, /\$\$/, /\$[^$\s][^$\n]*\$/,
               /\\(frac|lambda|alpha|eta|theta|mathbf|mathrm|operatorname|sum|lVert|rVert|lvert|begin|end|left|right|cdot|nabla|partial|sqrt)\b/];
  let text;
  const seen = new Set();
  while ((text = walker.nextNode())) {
    const s = text.nodeValue;
    for (const re of raw) {
      const m = s.match(re);
      if (m) {
        const i = Math.max(0, m.index - 30);
        const snippet = s.slice(i, m.index + 50).replace(/\s+/g, " ").trim();
        if (!seen.has(snippet)) { seen.add(snippet); out.math.push("raw TeX in text: \u201c" + snippet + "\u201d"); }
        break;
      }
    }
  }
  // Informational: display equations wider than the column (they scroll; readers may miss it).
  out.wide = Array.from(document.querySelectorAll("div.math > mjx-container[display='true']"))
    .filter((c) => c.scrollWidth > c.clientWidth + 1)
    .map((c) => (c.parentElement.id || "(no label)") + " " + c.scrollWidth + "px > " + c.clientWidth + "px");
  // --- Images: make lazy ones eager, wait for all, then every one must have pixels.
  const imgs = Array.from(document.images);
  out.nImages = imgs.length;
  imgs.forEach((img) => { if (img.loading === "lazy") img.loading = "eager"; });
  for (let i = 0; i < 200 && imgs.some((img) => !img.complete); i++) await sleep(50);
  imgs.forEach((img) => {
    if (!img.complete || img.naturalWidth === 0) {
      const src = img.getAttribute("src") || "";
      out.images.push("broken image: " + (src.startsWith("data:") ? src.slice(0, 40) + "..." : src));
    }
  });
  // --- Execution outputs: errors, tracebacks, warnings on stderr, docutils error boxes.
  document.querySelectorAll(".output.traceback, .output.error, .output_error").forEach((el) => {
    out.outputs.push("error output: " + el.textContent.trim().slice(0, 200));
  });
  document.querySelectorAll(".output.stderr").forEach((el) => {
    const t = el.textContent;
    if (/Traceback|Error|Warning|warn\(/.test(t)) out.outputs.push("stderr: " + t.trim().slice(0, 200));
  });
  document.querySelectorAll(".system-message, .problematic").forEach((el) => {
    out.outputs.push("docutils error box: " + el.textContent.trim().slice(0, 200));
  });
  // --- Links: every href, resolved by the browser (checked in Python against the files).
  document.querySelectorAll("a[href]").forEach((a) => {
    const h = a.getAttribute("href");
    if (h && h !== "#" && !h.startsWith("javascript:") && !h.startsWith("mailto:")) out.links.push(a.href);
  });
  done(out);
})().catch((e) => done({fatal: String(e && e.stack || e)}));
