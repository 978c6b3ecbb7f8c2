import assert from "node:assert/strict";
import { renderVelocity, TemplateError } from "../../tools/genesys/velocity.ts";
import { applyTranslationMap } from "../../tools/genesys/translation_map.ts";
import { RESPONSE_EXAMPLES, TEMPLATE_EXAMPLES } from "./fixtures/genesys_help_examples.ts";

Deno.test("renderVelocity() renders the examples of Genesys's help pages", async (t) => {
  for (const example of TEMPLATE_EXAMPLES) {
    await t.step(`${example.about} (${example.source.url})`, () => {
      assert.equal(renderVelocity(example.template, example.context), example.expected);
    });
  }
});

Deno.test("applyTranslationMap() and the success template give the examples' answers", async (t) => {
  for (const example of RESPONSE_EXAMPLES) {
    await t.step(example.about, () => {
      const mapped = applyTranslationMap(
        example.body,
        example.translationMap,
        example.translationMapDefaults,
      );
      assert.ok(mapped.ok, JSON.stringify(mapped));
      const resolved = renderVelocity(example.successTemplate, {
        rawResult: JSON.stringify(example.body),
        ...mapped.values,
      });
      assert.deepEqual(JSON.parse(resolved), example.expected);
    });
  }
});

Deno.test("renderVelocity() is Velocity: references, directives and the $input shorthand", async (t) => {
  const input = { city_name: "São Paulo", country_code: "BR", count: 3 };
  await t.step("an unset ${x} prints as written; $!{x} prints nothing", () => {
    assert.equal(
      renderVelocity("[${input.lang}][$!{input.lang}][$input.lang]", { input }),
      "[${input.lang}][][$input.lang]",
    );
  });
  await t.step("$input.x is ${input.x}", () => {
    assert.equal(
      renderVelocity("$input.city_name,${input.country_code}", { input }),
      "São Paulo,BR",
    );
  });
  await t.step("#set, #if / #else and #foreach", () => {
    const template = "#set($n = $input.count)#if($n > 2)many#{else}few#end:" +
      '#foreach($code in ["GB", "US"])$code#if($foreach.hasNext),#end#end';
    assert.equal(renderVelocity(template, { input }), "many:GB,US");
  });
  await t.step("a value with quotes, backslashes or any script is placed as it is", () => {
    const credentials = { clientId: 'id"x', clientSecret: 'a\\"b€日本' };
    assert.equal(
      renderVelocity('$encoding.base64("${credentials.clientId}:${credentials.clientSecret}")', {
        credentials,
      }),
      btoa(String.fromCharCode(...new TextEncoder().encode('id"x:a\\"b€日本'))),
    );
  });
  await t.step("a JSON null is unset, as a Java null is", () => {
    assert.equal(renderVelocity("${input.x}|$!{input.x}", { input: { x: null } }), "${input.x}|");
  });
  await t.step("a template Velocity cannot parse is a TemplateError", () => {
    assert.throws(() => renderVelocity("#if($x", {}), TemplateError);
  });
});

Deno.test("renderVelocity() has Genesys's tools", async (t) => {
  const render = (template: string, input: Record<string, unknown> = {}) =>
    renderVelocity(template, { input });
  await t.step("$esc.jsonString keeps a JSON body JSON, whatever the value", () => {
    const name = 'He said "hi"\\\n\ttab – €';
    const body = render('{"name": "$esc.jsonString($input.name)"}', { name });
    assert.deepEqual(JSON.parse(body), { name });
    assert.equal(render('"$esc.jsonEncode($input.name)"', { name: 'a"b' }), '"a\\"b"');
  });
  await t.step("$esc.jsonDecode undoes it", () => {
    assert.equal(render("$esc.jsonDecode($input.text)", { text: 'a\\"b\\n' }), 'a"b\n');
  });
  await t.step("$esc.url and $esc.urlFormEncode: form encoding, a space as +", () => {
    assert.equal(
      render("$esc.url($input.q)", { q: "New York, US & (more)!" }),
      "New+York%2C+US+%26+%28more%29%21",
    );
    assert.equal(render("$esc.urlFormEncode($input.q)", { q: "a b/c" }), "a+b%2Fc");
  });
  await t.step("$esc.uriEncode: a space as %20", () => {
    assert.equal(render("$esc.uriEncode($input.q)", { q: "a b/c*" }), "a%20b%2Fc%2A");
  });
  await t.step("$esc.quote and friends print their character", () => {
    assert.equal(render("$esc.quote$esc.quote $esc.dollar$esc.hash"), '"" $#');
  });
  await t.step("$encoding.base64 encodes UTF-8", () => {
    assert.equal(render('$encoding.base64("é")'), "w6k=");
  });
  await t.step("$math", () => {
    assert.equal(
      render("$math.add(1, 2) $math.sub(10, 4) $math.mul(2, 3) $math.div(7, 2)"),
      "3 6 6 3.5",
    );
    assert.equal(
      render('$math.max(4, "9") $math.round(2.5) $math.roundTo(1, 2.46) $math.abs(-3)'),
      "9 3 2.5 3",
    );
    // A value it cannot use: Velocity prints the reference as written.
    assert.equal(render('$math.add(1,"x")'), '$math.add(1,"x")');
  });
  await t.step("$successTemplateUtils.firstFromArray, with and without a fallback", () => {
    assert.equal(render('$successTemplateUtils.firstFromArray("[\\"a\\",\\"b\\"]")'), '"a"');
    assert.equal(render('$successTemplateUtils.firstFromArray("[]", "0")'), "0");
    assert.equal(render('$successTemplateUtils.firstFromArray("[]")'), "");
  });
  await t.step("$successTemplateUtils.moveKeysIntoArrayOfObjects", () => {
    const object = JSON.stringify({ q1: { waiting: 2 }, q2: { waiting: 0 } });
    assert.deepEqual(
      JSON.parse(
        render('$successTemplateUtils.moveKeysIntoArrayOfObjects($input.o, "queueId")', {
          o: object,
        }),
      ),
      [{ waiting: 2, queueId: "q1" }, { waiting: 0, queueId: "q2" }],
    );
  });
  await t.step("$urlTool.optionalQueryParam: only a value that is there", () => {
    const template =
      '/weather?q=$esc.url($input.city)$urlTool.optionalQueryParam("lang", $input.lang)' +
      '$urlTool.optionalQueryParam("units", $input.units)';
    assert.equal(
      render(template, { city: "São Paulo", lang: "pt br" }),
      "/weather?q=S%C3%A3o+Paulo&lang=pt+br",
    );
    assert.equal(render('?$urlTool.optionalQueryParam("a", $input.a, true)', { a: "1" }), "?a=1");
  });
  await t.step("one render's tools are not another's", () => {
    render("#set($esc.quote = 'x')");
    assert.equal(render("$esc.quote"), '"');
  });
});

Deno.test("applyTranslationMap() evaluates real JSONPath", async (t) => {
  const body = {
    weather: [{ id: 500, description: "light rain" }, { id: 701, description: "mist" }],
    main: { temp: 11.05, "feels like": 10.3 },
    gone: null,
  };
  const map = (paths: Record<string, string>, defaults: Record<string, string> = {}) =>
    applyTranslationMap(body, paths, defaults);
  await t.step("indexes, brackets and names give the value, as JSON text", () => {
    assert.deepEqual(
      map({ d: "$.weather[0].description", f: "$.main['feels like']", t: "$['main']['temp']" }),
      { ok: true, values: { d: '"light rain"', f: "10.3", t: "11.05" } },
    );
  });
  await t.step("deep scan, wildcards and filters give arrays, maybe empty", () => {
    assert.deepEqual(
      map({
        ids: "$..id",
        all: "$.weather[*].description",
        rain: "$.weather[?(@.id < 600)].description",
        snow: "$.weather[?(@.id >= 600 && @.id < 700)].description",
      }),
      {
        ok: true,
        values: {
          ids: "[500,701]",
          all: '["light rain","mist"]',
          rain: '["light rain"]',
          snow: "[]",
        },
      },
    );
  });
  await t.step("a default for a path that finds nothing; never for a null", () => {
    assert.deepEqual(map({ x: "$.missing.x", gone: "$.gone" }, { x: '"none"', gone: '"none"' }), {
      ok: true,
      values: { x: '"none"', gone: "null" },
    });
  });
  await t.step("no default for a path that finds nothing: the action fails, saying which", () => {
    const result = map({ x: "$.weather[5].id" });
    assert.equal(result.ok, false);
    assert.match(
      (result as { message: string }).message,
      /"x" \(\$\.weather\[5\]\.id\) found nothing/,
    );
  });
  await t.step("a filter is never evaluated as code", () => {
    const result = map({ x: "$.weather[?(globalThis.Deno.exit(9))]" });
    assert.equal(result.ok, false);
  });
});
