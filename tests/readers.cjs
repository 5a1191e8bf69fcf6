// Our feed files as three npm feed parsers that readers and aggregators use read them
// (tests/test_readers.py installs them into a cache folder and runs this with node).
// Each argument is a feed file; prints, as JSON, {file: {parser: feed}}: what each parser
// made of it, in one shape (dates as ISO strings, or "invalid: <what it held>").
"use strict";
const fs = require("fs");
const { parseFeed: rowanmanning } = require("@rowanmanning/feed-parser");
const RssParser = require("rss-parser");
const feedsmith = require("feedsmith");

function iso(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? `invalid: ${value}` : date.toISOString();
}

const text = (value) => (value && typeof value === "object" ? value.value : value) ?? null;
const alternate = (links) => (links || []).find((l) => !l.rel || l.rel === "alternate")?.href ?? null;
const selfLink = (links) => (links || []).find((l) => l.rel === "self")?.href ?? null;

function fromRowanmanning(xml) {
  const feed = rowanmanning(xml);
  return {
    title: feed.title, link: feed.url, self: feed.self, language: feed.language,
    items: feed.items.map((item) => ({
      id: item.id, title: item.title, link: item.url, published: iso(item.published),
      updated: iso(item.updated), authors: item.authors.map((a) => a.name),
      content: item.content, summary: item.description,
    })),
  };
}

async function fromRssParser(xml) {
  const feed = await new RssParser().parseString(xml);
  return {
    title: feed.title, link: feed.link, self: feed.feedUrl, language: feed.language ?? null,
    items: feed.items.map((item) => ({
      id: item.guid ?? item.id, title: item.title, link: item.link,
      published: iso(item.isoDate), updated: null,
      authors: [item.creator ?? item.author].filter(Boolean),
      // rss-parser's `content` is an RSS item's description: the full text is content:encoded
      content: item["content:encoded"] ?? item.content, summary: item.summary ?? item.content,
    })),
  };
}

function fromFeedsmith(raw) {
  const { format, feed } = feedsmith.parseFeed(raw);
  if (format === "json") {
    return {
      title: feed.title, link: feed.home_page_url, self: feed.feed_url, language: feed.language,
      items: feed.items.map((item) => ({
        id: item.id, title: item.title, link: item.url, published: iso(item.date_published),
        updated: iso(item.date_modified), authors: (item.authors || []).map((a) => a.name),
        content: item.content_html ?? item.content_text, summary: item.summary,
      })),
    };
  }
  if (format === "atom") {
    return {
      title: text(feed.title), link: alternate(feed.links), self: selfLink(feed.links),
      language: null,
      items: feed.entries.map((entry) => ({
        id: entry.id, title: text(entry.title), link: alternate(entry.links),
        published: iso(entry.published), updated: iso(entry.updated),
        authors: (entry.authors || []).map((a) => a.name),
        content: text(entry.content), summary: text(entry.summary),
      })),
    };
  }
  return {
    title: feed.title, link: feed.link, self: selfLink(feed.atom?.links), language: feed.language,
    items: feed.items.map((item) => ({
      id: item.guid?.value ?? null, title: item.title, link: item.link,
      published: iso(item.pubDate), updated: null, authors: item.dc?.creators ?? [],
      content: item.content?.encoded ?? item.description, summary: item.description,
    })),
  };
}

async function main() {
  const out = {};
  for (const path of process.argv.slice(2)) {
    const raw = fs.readFileSync(path, "utf8");
    out[path] = { feedsmith: fromFeedsmith(raw) };
    if (!path.endsWith(".json")) {  // the other two read RSS and Atom only
      out[path].rowanmanning = fromRowanmanning(raw);
      out[path]["rss-parser"] = await fromRssParser(raw);
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
