// See html.h.
#include "report/html.h"

namespace dg::report {

// Defined in the generated ui_assets.cc (CMake: esbuild over web/).
extern const char kUiAppJs[];
extern const unsigned long kUiAppJsSize;
extern const char kUiAppCss[];
extern const unsigned long kUiAppCssSize;

std::string_view UiScript() { return {kUiAppJs, kUiAppJsSize}; }
std::string_view UiStyle() { return {kUiAppCss, kUiAppCssSize}; }

std::string UiAppPage() {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>distillguard · cases</title>"
         "<link rel=\"icon\" href=\"data:,\">"
         // Cytoscape.js injects a <style> unless an element with this id exists (CSP forbids it);
         // app.css carries the rule it would add.
         "<link rel=\"stylesheet\" href=\"/ui/app.css\" id=\"__________cytoscape_stylesheet\">"
         "</head><body><div id=\"app\" data-mode=\"live\"></div>"
         "<script src=\"/ui/app.js\"></script></body></html>\n";
}

std::string UiLoginPage(bool error) {
  std::string page =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>distillguard · sign in</title><link rel=\"icon\" href=\"data:,\">"
      "<link rel=\"stylesheet\" href=\"/ui/app.css\"></head><body class=\"login-body\">"
      "<form class=\"login\" method=\"post\" action=\"/ui/login\">"
      "<h1><span class=\"logo\">&#9670;</span> distillguard</h1>"
      "<p class=\"muted\">Case review. Sign in with the service's admin token; your name goes "
      "on every action you take.</p>";
  if (error) page += "<p class=\"error\" id=\"login-error\">Wrong token or missing name.</p>";
  page +=
      "<label>Your name<input name=\"user\" id=\"user\" autocomplete=\"username\" required "
      "maxlength=\"64\"></label>"
      "<label>Admin token<input name=\"token\" id=\"token\" type=\"password\" "
      "autocomplete=\"current-password\" required></label>"
      "<button type=\"submit\" id=\"login\">Sign in</button></form></body></html>\n";
  return page;
}

std::string JsonForScript(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 16);
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string StaticReportHtml(std::string_view data_json) {
  std::string script(UiScript());
  // The bundle is inlined: "</script" inside it would end the element early.
  for (size_t p = 0; (p = script.find("</script", p)) != std::string::npos; p += 2) {
    script.replace(p, 2, "<\\/");
  }
  std::string page;
  page.reserve(script.size() + data_json.size() + 4096);
  page +=
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>distillguard · scan report</title><link rel=\"icon\" href=\"data:,\">"
      "<style id=\"__________cytoscape_stylesheet\">";
  page += UiStyle();
  page +=
      "</style></head><body><div id=\"app\" data-mode=\"static\"></div>"
      "<script type=\"application/json\" id=\"dg-data\">";
  page += JsonForScript(data_json);
  page += "</script><script>";
  page += script;
  page += "</script></body></html>\n";
  return page;
}

}  // namespace dg::report
