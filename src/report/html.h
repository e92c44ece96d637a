// The analyst UI's HTML: the pages `serve` hosts at /ui (an app shell loading the bundled
// script and style, and the login form) and the self-contained page `scan --html` writes (the
// same bundle inlined, the cases embedded as JSON).
//
// The bundle (web/app.js + web/app.css and the npm packages they import: uPlot, Cytoscape.js) is
// built at build time by esbuild and embedded in the binary (generated/ui_assets.cc); nothing is
// loaded from elsewhere at run time. The pages put no case data in HTML: the script renders it
// from JSON with text nodes, and the embedded JSON escapes '<' so no string can close its
// <script> element.
#pragma once

#include <string>
#include <string_view>

namespace dg::report {

// The embedded bundle.
std::string_view UiScript();
std::string_view UiStyle();

// The Content-Security-Policy `serve` sends with its UI pages: scripts, styles and requests only
// from the service itself; no inline script, no frames, no plugins.
inline constexpr std::string_view kUiCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

std::string UiAppPage();
// `error`: show "wrong token" (fixed text: nothing from the request is echoed).
std::string UiLoginPage(bool error);
// One file holding the queue and every case of a historical scan: `data_json` is
// {"queue": {...}, "cases": {"kind|scope|id": {...}, ...}}.
std::string StaticReportHtml(std::string_view data_json);

// JSON made safe to embed in a <script type="application/json"> element ('<', '>', '&' and the
// line separators U+2028/9 escaped as \uXXXX; JSON strings only, so the value is unchanged).
std::string JsonForScript(std::string_view json);

}  // namespace dg::report
