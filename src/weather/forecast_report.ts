/**
 * A forecast as the forecast action's flat answer: what the next hours bring,
 * and today's and tomorrow's range, chance of precipitation and worst
 * condition, in the place's own calendar days.
 *
 * The rules, each chosen for a flow that branches and speaks:
 * - A step is OpenWeatherMap's forecast for its time `dt`; its rain and snow
 *   are the volumes of the 3 hours up to it. A step remains while `dt` is not
 *   yet past, so a cached forecast never answers with hours already gone.
 * - "Next hours" are the next two remaining steps (about 6 hours). Their
 *   probability is the highest `pop`; rain is expected when it reaches the
 *   threshold, or when a step has any rain or snow volume.
 * - A day is a calendar day in the place's local time (`city.timezone`), not
 *   UTC. Today is the remaining steps of today; with none left, today's fields
 *   are absent. Its condition group is the most severe of its steps', in
 *   GROUP_SEVERITY's order; its temperatures are the lowest and highest step
 *   temperatures, rounded to whole numbers.
 * - The condition named for the next hours is the one of their most severe
 *   step (the earlier on a tie), and severe reasons rank as in SEVERE_REASONS.
 */

import {
  type ConditionGroup,
  type ForecastReport,
  type Language,
  SEVERE_REASONS,
  type SevereReason,
  type Units,
} from "./contract.ts";
import type { Forecast, ForecastStep } from "./forecast.ts";
import { LANGUAGE_TAGS } from "./language.ts";
import {
  capitaliseFirstLetter,
  conditionGroupOf,
  severeReasonOf,
  TEMPERATURE_UNIT,
  wholeDegrees,
  windMetresPerSecond,
} from "./report.ts";

/** The steps "next hours" covers: two 3-hour steps. */
export const NEXT_HOURS_STEPS = 2;

/** Condition groups from the least to the most severe: a day is as bad as its worst step. */
export const GROUP_SEVERITY: readonly ConditionGroup[] = [
  "clear",
  "clouds",
  "fog",
  "drizzle",
  "rain",
  "snow",
  "thunderstorm",
  "extreme",
];

const DAY_MS = 86_400_000;

export interface ForecastReportOptions {
  units: Units;
  lang: Language;
  stale: boolean;
  /** Milliseconds since the epoch: which steps remain, and which day is today. */
  now: number;
  /** SEVERE_WIND_METRES_PER_SECOND. */
  severeWindMetresPerSecond: number;
  /** FORECAST_RAIN_PROBABILITY_PERCENT: from this chance on, rain is expected. */
  rainProbabilityPercent: number;
}

/** What each step says, worked out once. */
interface Step {
  readonly time: number;
  /** The place's calendar day of the step, counted in days since the epoch. */
  readonly day: number;
  readonly temperature: number;
  readonly description: string;
  readonly group: ConditionGroup | undefined;
  readonly probability: number;
  readonly precipitates: boolean;
  readonly severeReason: SevereReason | undefined;
}

/** The report, or undefined when no step of the forecast remains (it is older than its 5 days). */
export function toForecastReport(
  forecast: Forecast,
  options: ForecastReportOptions,
): ForecastReport | undefined {
  const offsetMs = forecast.city.timezone * 1000;
  const steps = forecast.list
    .filter((step) => step.dt * 1000 > options.now)
    .map((step) => describeStep(step, offsetMs, options));
  const [first] = steps;
  if (first === undefined) return undefined;

  const next = steps.slice(0, NEXT_HOURS_STEPS);
  const worstNext = worstStep(next)!;
  const nextProbability = highestProbability(next);
  const nextReason = firstReason(next);
  const tag = LANGUAGE_TAGS[options.lang];
  const nextCondition = capitaliseFirstLetter(worstNext.description, tag);
  const today = Math.floor((options.now + offsetMs) / DAY_MS);
  const days = { today: dayOf(steps, today), tomorrow: dayOf(steps, today + 1) };
  const report: ForecastReport = {
    next_hours_condition: nextCondition,
    next_hours_precipitation_probability: nextProbability,
    next_hours_rain_expected: nextProbability >= options.rainProbabilityPercent ||
      next.some((step) => step.precipitates),
    next_hours_severe: nextReason !== undefined,
    summary: summaryOf(forecast.city.name, nextCondition, nextProbability, days.tomorrow, {
      units: options.units,
      tag,
    }),
    units: options.units,
    temperature_unit: TEMPERATURE_UNIT[options.units],
    lang: tag,
    stale: options.stale,
    forecast_at: new Date(first.time).toISOString(),
  };
  if (worstNext.group !== undefined) report.next_hours_condition_group = worstNext.group;
  if (nextReason !== undefined) report.next_hours_severe_reason = nextReason;

  for (const [name, day] of Object.entries(days)) {
    if (day === undefined) continue;
    const prefix = name as keyof typeof days;
    report[`${prefix}_temperature_min`] = day.min;
    report[`${prefix}_temperature_max`] = day.max;
    report[`${prefix}_precipitation_probability`] = day.probability;
    if (day.group !== undefined) report[`${prefix}_condition_group`] = day.group;
    report[`${prefix}_severe`] = day.severe;
  }
  if (forecast.city.name) report.city = forecast.city.name;
  if (forecast.city.country) report.country = forecast.city.country;
  return report;
}

function describeStep(step: ForecastStep, offsetMs: number, options: ForecastReportOptions): Step {
  const condition = step.weather[0]!;
  const time = step.dt * 1000;
  return {
    time,
    day: Math.floor((time + offsetMs) / DAY_MS),
    temperature: step.main.temp,
    description: condition.description,
    group: Number.isInteger(condition.id) ? conditionGroupOf(condition.id!) : undefined,
    probability: step.pop,
    precipitates: (step.rain?.["3h"] ?? 0) > 0 || (step.snow?.["3h"] ?? 0) > 0,
    severeReason: severeReasonOf(
      condition.id,
      windMetresPerSecond(step.wind?.speed, options.units),
      options,
    ),
  };
}

interface Day {
  readonly min: number;
  readonly max: number;
  readonly probability: number;
  readonly group: ConditionGroup | undefined;
  readonly severe: boolean;
  /** Its most severe step, for the summary. */
  readonly worst: Step;
}

function dayOf(steps: readonly Step[], day: number): Day | undefined {
  const ofDay = steps.filter((step) => step.day === day);
  const worst = worstStep(ofDay);
  if (worst === undefined) return undefined;
  const temperatures = ofDay.map((step) => step.temperature);
  return {
    min: wholeDegrees(Math.min(...temperatures)),
    max: wholeDegrees(Math.max(...temperatures)),
    probability: highestProbability(ofDay),
    group: worst.group,
    severe: ofDay.some((step) => step.severeReason !== undefined),
    worst,
  };
}

/** The step of the most severe condition group; the earliest on a tie, or when none is known. */
function worstStep(steps: readonly Step[]): Step | undefined {
  const severity = (step: Step) =>
    step.group === undefined ? -1 : GROUP_SEVERITY.indexOf(step.group);
  return steps.reduce<Step | undefined>(
    (worst, step) => worst === undefined || severity(step) > severity(worst) ? step : worst,
    undefined,
  );
}

/** The highest chance of precipitation among the steps, in whole percent. */
function highestProbability(steps: readonly Step[]): number {
  return Math.round(Math.max(...steps.map((step) => step.probability)) * 100);
}

/** The severe reason that ranks first in SEVERE_REASONS among the steps', if any. */
function firstReason(steps: readonly Step[]): SevereReason | undefined {
  return SEVERE_REASONS.find((reason) => steps.some((step) => step.severeReason === reason));
}

/**
 * "London: Light rain, 80%; tomorrow: Overcast clouds, 8–14 degrees Celsius."
 * in the answer's language: the conditions are OpenWeatherMap's words,
 * translated by it; "tomorrow", the list's punctuation, the percentage and the
 * range with its unit are ICU's, so no translation is kept by hand. Kelvin is
 * no unit ECMA-402 formats, so it is written "281–287 K".
 */
function summaryOf(
  place: string | undefined,
  nextCondition: string,
  nextProbability: number,
  tomorrow: Day | undefined,
  { units, tag }: { units: Units; tag: string },
): string {
  const list = new Intl.ListFormat(tag, { type: "unit", style: "short" });
  const percent = new Intl.NumberFormat(tag, { style: "percent" }).format(nextProbability / 100);
  const nextHours = list.format([nextCondition, percent]);
  const parts = [place ? `${place}: ${nextHours}` : nextHours];
  if (tomorrow !== undefined) {
    const word = new Intl.RelativeTimeFormat(tag, { numeric: "auto" }).format(1, "day");
    const range = temperatureRange(tomorrow.min, tomorrow.max, units, tag);
    const weather = list.format([capitaliseFirstLetter(tomorrow.worst.description, tag), range]);
    parts.push(`${word}: ${weather}`);
  }
  return `${parts.join("; ")}.`;
}

function temperatureRange(min: number, max: number, units: Units, tag: string): string {
  const format = units === "standard" ? new Intl.NumberFormat(tag) : new Intl.NumberFormat(tag, {
    style: "unit",
    unit: TEMPERATURE_UNIT[units],
    unitDisplay: "long",
  });
  // formatRange() of one number writes it "~8", approximately: a range of one is that number.
  const text = min === max ? format.format(min) : format.formatRange(min, max);
  return units === "standard" ? `${text} K` : text;
}
