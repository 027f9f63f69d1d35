// posthog-node unchanged but for its host and key (tests/e2e/test_posthog_node.py runs it):
// node posthog_node.mjs HOST KEY TAG. An anonymous visitor's page view, identify with $set /
// $set_once and the visitor's id, a second device aliased to the user, the company (groupIdentify), an order in the
// group, and a colleague's event carrying only the group; then shutdown() flushes it all.
import { PostHog } from "posthog-node";

const [host, key, tag] = process.argv.slice(2);
const user = `u-node-${tag}`;
const visitor = `anon-node-${tag}`;
const device = `device-node-${tag}`;
const colleague = `c-node-${tag}`;
const company = `cnode${tag}`;
const errors = [];
const client = new PostHog(key, { host, flushAt: 1, flushInterval: 0 });
client.on("error", (error) => errors.push(String(error)));

client.capture({
  distinctId: visitor,
  event: "$pageview",
  properties: { $is_identified: false, $current_url: "https://shop.example.com/pricing" },
});
client.identify({
  distinctId: user,
  properties: {
    $set: { email: `${user}@contoso.com`, name: `Jane ${tag}` },
    $set_once: { first_seen: "pricing" },
    $anon_distinct_id: visitor,
  },
});
client.identify({ distinctId: user, properties: { $set_once: { first_seen: "later" } } });
// The same person on a second device, anonymous, then aliased to the user: `$create_alias`
// with the device's id as distinct_id (the previous id) and the user's as alias.
client.capture({ distinctId: device, event: "opened app", properties: { $is_identified: false } });
client.alias({ distinctId: device, alias: user });
client.groupIdentify({
  groupType: "company",
  groupKey: company,
  properties: { name: `Contoso ${tag}`, domain: `${company}.com` },
  distinctId: user,
});
client.capture({
  distinctId: user,
  event: "Order Completed",
  properties: { order_id: `o-node-${tag}`, total: 30, currency: "USD" },
  groups: { company },
});
// A colleague at the company's domain, whose events only name the group.
client.identify({ distinctId: colleague, properties: { $set: { email: `c@${company}.com` } } });
client.capture({ distinctId: colleague, event: "signed in", groups: { company } });
await client.shutdown();
if (errors.length) {
  console.error(errors.join("\n"));
  process.exit(1);
}
console.log(JSON.stringify({ user, visitor, device, colleague, company }));
