/**
 * The answer's language: what a flow sends as `lang` (an OpenWeatherMap code,
 * or a language tag such as Architect's `Call.Language`, `en-us`), the code
 * OpenWeatherMap is asked in, and the BCP 47 tag the answer says it is in.
 * A language never makes a request fail: what is not recognised is English.
 */

/**
 * OpenWeatherMap's language codes ("Multilingual support" in its current
 * weather documentation, as of 2026), each with the BCP 47 tag of its
 * language. Some codes are not ISO 639: `cz` Czech, `kr` Korean, `la`
 * Latvian, `se` Swedish, `sp` Spanish, `ua` Ukrainian (Latin, Northern Sami
 * and so on are not offered, so the code means OpenWeatherMap's language).
 */
export const LANGUAGE_TAGS = {
  af: "af",
  ar: "ar",
  az: "az",
  be: "be",
  bg: "bg",
  ca: "ca",
  cz: "cs",
  da: "da",
  de: "de",
  el: "el",
  en: "en",
  es: "es",
  eu: "eu",
  fa: "fa",
  fi: "fi",
  fr: "fr",
  gl: "gl",
  he: "he",
  hi: "hi",
  hr: "hr",
  hu: "hu",
  id: "id",
  is: "is",
  it: "it",
  ja: "ja",
  kr: "ko",
  ku: "ku",
  la: "lv",
  lt: "lt",
  mk: "mk",
  nl: "nl",
  no: "no",
  pl: "pl",
  pt: "pt",
  pt_br: "pt-BR",
  ro: "ro",
  ru: "ru",
  se: "sv",
  sk: "sk",
  sl: "sl",
  sp: "es",
  sq: "sq",
  sr: "sr",
  sv: "sv",
  th: "th",
  tr: "tr",
  ua: "uk",
  uk: "uk",
  vi: "vi",
  zh_cn: "zh-CN",
  zh_tw: "zh-TW",
  zu: "zu",
} as const;

export type Language = keyof typeof LANGUAGE_TAGS;
export const LANGUAGES = Object.keys(LANGUAGE_TAGS) as Language[];
export const DEFAULT_LANGUAGE: Language = "en";

/** Codes OpenWeatherMap documented before and has replaced: Albanian was `al`. */
const FORMER_CODES: Readonly<Record<string, Language>> = { al: "sq" };

/** The OpenWeatherMap code of each language (a BCP 47 language subtag) it offers. */
const CODE_OF_LANGUAGE = new Map<string, Language>([["nb", "no"], ["nn", "no"]]);
for (const code of LANGUAGES) {
  const tag = LANGUAGE_TAGS[code];
  if (tag.includes("-")) continue; // pt_br, zh_cn and zh_tw are told apart by region and script.
  // Where OpenWeatherMap offers two codes for one language ("sp" and "es"), ISO's wins.
  if (!CODE_OF_LANGUAGE.has(tag) || code === tag) CODE_OF_LANGUAGE.set(tag, code);
}

/** Regions and scripts whose Chinese is written in traditional characters. */
const TRADITIONAL_CHINESE_REGIONS = new Set(["TW", "HK", "MO"]);

/**
 * The OpenWeatherMap code for what a flow sent: one of its own codes in any
 * case (`PT_BR`), else a BCP 47 tag by its language, region and script
 * (`en-us` → `en`, `pt-br` → `pt_br`, `zh-hant` → `zh_tw`, `ko-kr` → `kr`),
 * else English. Blank means the default, English.
 */
export function languageOf(requested: string): Language {
  const text = requested.trim().toLowerCase();
  if (Object.hasOwn(LANGUAGE_TAGS, text)) return text as Language;
  if (Object.hasOwn(FORMER_CODES, text)) return FORMER_CODES[text]!;
  let locale: Intl.Locale;
  try {
    locale = new Intl.Locale(text.replaceAll("_", "-"));
  } catch {
    return DEFAULT_LANGUAGE; // Not a well-formed tag.
  }
  const { language, region, script } = locale;
  if (language === "pt") return region === "BR" ? "pt_br" : "pt";
  if (language === "zh") {
    const traditional = script === "Hant" ||
      (script === undefined && region !== undefined && TRADITIONAL_CHINESE_REGIONS.has(region));
    return traditional ? "zh_tw" : "zh_cn";
  }
  return CODE_OF_LANGUAGE.get(language) ?? DEFAULT_LANGUAGE;
}
