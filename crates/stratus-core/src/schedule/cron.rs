//! EventBridge's cron: `Minutes Hours Day-of-month Month Day-of-week Year`, evaluated in UTC.
//!
//! Each field takes `*`, values, lists (`,`), ranges (`-`, wrapping past the end like Quartz's
//! `FRI-MON`) and increments (`/`); months and weekdays also take names (JAN–DEC, SUN–SAT, with
//! 1 = SUN). Exactly one of Day-of-month and Day-of-week is `?`. Day-of-month also takes `L`
//! (last day), `LW` (last weekday) and `15W` (the weekday nearest the 15th); Day-of-week takes
//! `L` (Saturday), `6L` (the last Friday) and `2#1` (the first Monday).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// One cron field's name (as EventBridge's documentation spells it, for error messages), its
/// range and its value names.
struct Field {
    name: &'static str,
    min: u16,
    max: u16,
    names: &'static [&'static str],
}

const MINUTES: Field = Field::numeric("Minutes", 0, 59);
const HOURS: Field = Field::numeric("Hours", 0, 23);
const DAY_OF_MONTH: Field = Field::numeric("Day-of-month", 1, 31);
const MONTH: Field = Field {
    name: "Month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
const DAY_OF_WEEK: Field = Field {
    name: "Day-of-week",
    min: 1,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};
const YEAR: Field = Field::numeric("Year", 1970, 2199);

impl Field {
    const fn numeric(name: &'static str, min: u16, max: u16) -> Self {
        Self {
            name,
            min,
            max,
            names: &[],
        }
    }

    fn range_text(&self) -> String {
        match (self.names.first(), self.names.last()) {
            (Some(first), Some(last)) => {
                format!("{}-{} or {first}-{last}", self.min, self.max)
            }
            _ => format!("{}-{}", self.min, self.max),
        }
    }

    /// One value: a number in range, or a name (any case).
    fn value(&self, token: &str) -> Result<u16, String> {
        if token.is_empty() {
            return Err(format!("{}: a value is missing", self.name));
        }
        if token.bytes().all(|b| b.is_ascii_digit()) {
            return token
                .parse::<u16>()
                .ok()
                .filter(|v| (self.min..=self.max).contains(v))
                .ok_or_else(|| {
                    format!(
                        "{}: {token:?} is out of range {}",
                        self.name,
                        self.range_text()
                    )
                });
        }
        let upper = token.to_ascii_uppercase();
        match self.names.iter().position(|name| *name == upper) {
            Some(index) => Ok(self.min + u16::try_from(index).unwrap_or(0)),
            None => Err(format!(
                "{}: {token:?} is not a value ({})",
                self.name,
                self.range_text()
            )),
        }
    }

    /// A list of items, each `*`, `V`, `A-B`, with an optional `/STEP`.
    fn values(&self, text: &str) -> Result<Values, String> {
        let mut values = Values {
            min: self.min,
            allowed: vec![false; usize::from(self.max - self.min) + 1],
        };
        for item in text.split(',') {
            self.add_item(item, &mut values)?;
        }
        Ok(values)
    }

    fn add_item(&self, item: &str, values: &mut Values) -> Result<(), String> {
        if item.contains('?') {
            return Err(format!(
                "{}: {item:?}: ? stands alone, and only in Day-of-month or Day-of-week",
                self.name
            ));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(self.step(step)?)),
            None => (item, None),
        };
        let (start, end) = if range == "*" {
            (self.min, self.max)
        } else if let Some((first, last)) = range.split_once('-') {
            (self.value(first)?, self.value(last)?)
        } else {
            let start = self.value(range)?;
            // `5/15` means "from 5, every 15": to the end of the field.
            (start, if step.is_some() { self.max } else { start })
        };
        let step = step.unwrap_or(1);
        // Walk from start to end, wrapping past max to min (`FRI-MON`, `22-2`).
        let mut value = start;
        for index in 0.. {
            if index % step == 0 {
                values.allowed[usize::from(value - self.min)] = true;
            }
            if value == end {
                break;
            }
            value = if value == self.max {
                self.min
            } else {
                value + 1
            };
        }
        Ok(())
    }

    fn step(&self, text: &str) -> Result<u16, String> {
        let span = self.max - self.min + 1;
        text.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse::<u16>().ok())
            .flatten()
            .filter(|step| (1..=span).contains(step))
            .ok_or_else(|| {
                format!(
                    "{}: increment {text:?} must be a number from 1 to {span}",
                    self.name
                )
            })
    }
}

/// The values a field allows, as flags indexed from the field's minimum.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Values {
    min: u16,
    allowed: Vec<bool>,
}

impl Values {
    fn contains(&self, value: i32) -> bool {
        self.index(value)
            .is_some_and(|i| self.allowed.get(i) == Some(&true))
    }

    /// The smallest allowed value at or above `value`.
    fn first_from(&self, value: i32) -> Option<i32> {
        let start = self.index(value.max(i32::from(self.min)))?;
        let offset = self.allowed.iter().skip(start).position(|&a| a)?;
        i32::try_from(start + offset)
            .ok()
            .map(|i| i + i32::from(self.min))
    }

    fn index(&self, value: i32) -> Option<usize> {
        usize::try_from(value - i32::from(self.min)).ok()
    }
}

/// Which days of a month fire: decided by whichever of Day-of-month and Day-of-week is not `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Days {
    OfMonth(Values),
    LastOfMonth,
    LastWeekdayOfMonth,
    /// The weekday nearest this day, within the same month.
    NearestWeekday(u8),
    /// Values 1 (Sunday) to 7 (Saturday).
    OfWeek(Values),
    /// The month's last such weekday (1 = Sunday).
    LastOfWeek(u8),
    /// The month's `nth` such weekday.
    NthOfWeek {
        weekday: u8,
        nth: u8,
    },
}

fn weekday_number(date: Date) -> u8 {
    date.weekday().number_from_sunday()
}

impl Days {
    fn parse(day_of_month: &str, day_of_week: &str) -> Result<Self, String> {
        match (day_of_month == "?", day_of_week == "?") {
            (true, true) => Err(
                "Day-of-month and Day-of-week are both \"?\": exactly one of them must be".into(),
            ),
            (false, false) => Err(format!(
                "Day-of-month {day_of_month:?} and Day-of-week {day_of_week:?}: one of them must be \"?\""
            )),
            (false, true) => Self::of_month(day_of_month),
            (true, false) => Self::of_week(day_of_week),
        }
    }

    fn of_month(text: &str) -> Result<Self, String> {
        let upper = text.to_ascii_uppercase();
        match upper.as_str() {
            "L" => return Ok(Self::LastOfMonth),
            "LW" => return Ok(Self::LastWeekdayOfMonth),
            _ => {}
        }
        if let Some(day) = upper.strip_suffix('W')
            && !day.contains([',', '-', '/', '*', 'L', 'W'])
        {
            let day = DAY_OF_MONTH.value(day)?;
            return Ok(Self::NearestWeekday(u8::try_from(day).unwrap_or(1)));
        }
        if upper.contains(['L', 'W', '#']) {
            return Err(format!(
                "Day-of-month: {text:?} is not supported: L, LW and NW (e.g. 15W) stand alone, and # belongs to Day-of-week"
            ));
        }
        DAY_OF_MONTH.values(text).map(Self::OfMonth)
    }

    fn of_week(text: &str) -> Result<Self, String> {
        let upper = text.to_ascii_uppercase();
        let weekday = |token: &str| {
            DAY_OF_WEEK
                .value(token)
                .map(|v| u8::try_from(v).unwrap_or(1))
        };
        if upper == "L" {
            // Quartz's (and EventBridge's) "last day of the week": Saturday.
            return DAY_OF_WEEK.values("7").map(Self::OfWeek);
        }
        let special = |what: &str| {
            format!("Day-of-week: {text:?} is not supported: {what} stands alone (e.g. 6L or 2#1)")
        };
        if let Some((day, nth)) = upper.split_once('#') {
            if day.contains([',', '-', '/', '*']) {
                return Err(special("#"));
            }
            let nth = nth
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=5).contains(n) && nth.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| format!("Day-of-week: {text:?}: the week after # must be 1 to 5"))?;
            return Ok(Self::NthOfWeek {
                weekday: weekday(day)?,
                nth,
            });
        }
        if let Some(day) = upper.strip_suffix('L') {
            if day.contains([',', '-', '/', '*']) {
                return Err(special("L"));
            }
            return Ok(Self::LastOfWeek(weekday(day)?));
        }
        if upper.contains('L') {
            return Err(special("L"));
        }
        DAY_OF_WEEK.values(text).map(Self::OfWeek)
    }

    fn matches(&self, date: Date) -> bool {
        let day = date.day();
        let length = date.month().length(date.year());
        match self {
            Self::OfMonth(days) => days.contains(i32::from(day)),
            Self::LastOfMonth => day == length,
            Self::LastWeekdayOfMonth => day == last_weekday(date, length),
            Self::NearestWeekday(target) => nearest_weekday(date, *target, length) == Some(day),
            Self::OfWeek(weekdays) => weekdays.contains(i32::from(weekday_number(date))),
            Self::LastOfWeek(weekday) => weekday_number(date) == *weekday && day + 7 > length,
            Self::NthOfWeek { weekday, nth } => {
                weekday_number(date) == *weekday && (day - 1) / 7 + 1 == *nth
            }
        }
    }
}

/// The last Monday–Friday of `date`'s month.
fn last_weekday(date: Date, length: u8) -> u8 {
    let last = date.replace_day(length).unwrap_or(date);
    match weekday_number(last) {
        7 => length - 1,
        1 => length - 2,
        _ => length,
    }
}

/// The Monday–Friday nearest `target` in `date`'s month, never crossing into another month
/// (a Saturday the 1st moves to Monday the 3rd); `None` when the month has no such day.
fn nearest_weekday(date: Date, target: u8, length: u8) -> Option<u8> {
    if target > length {
        return None;
    }
    let day = date.replace_day(target).ok()?;
    Some(match weekday_number(day) {
        7 if target == 1 => 3,
        7 => target - 1,
        1 if target == length => target - 2,
        1 => target + 1,
        _ => target,
    })
}

/// A parsed EventBridge cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Values,
    hours: Values,
    days: Days,
    months: Values,
    years: Values,
}

impl Cron {
    /// Parses the six fields inside `cron(...)`.
    pub(super) fn parse(body: &str) -> Result<Self, String> {
        let fields: Vec<&str> = body.split_whitespace().collect();
        let [minutes, hours, day_of_month, month, day_of_week, year] = fields.as_slice() else {
            return Err(format!(
                "cron needs 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), found {} in {body:?}",
                fields.len()
            ));
        };
        Ok(Self {
            minutes: MINUTES.values(minutes)?,
            hours: HOURS.values(hours)?,
            days: Days::parse(day_of_month, day_of_week)?,
            months: MONTH.values(month)?,
            years: YEAR.values(year)?,
        })
    }

    /// The first matching minute strictly after `after`, or `None` if none comes before 2200.
    #[must_use]
    pub fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        let after = after.checked_to_offset(UtcOffset::UTC)?;
        let mut at = Cursor {
            year: after.year(),
            month: u8::from(after.month()),
            day: after.day(),
            hour: after.hour(),
            minute: after.minute(),
        };
        at.next_minute();
        // Every pass moves the cursor forward; a year past the field's range ends the search,
        // so even a day that never exists (30 FEB) costs at most a few thousand passes.
        loop {
            if at.year > i32::from(YEAR.max) {
                return None;
            }
            if !self.years.contains(at.year) {
                at = Cursor::new_year(self.years.first_from(at.year + 1)?);
            } else if !self.months.contains(i32::from(at.month)) {
                match self.months.first_from(i32::from(at.month) + 1) {
                    Some(month) => at.start_month(u8::try_from(month).ok()?),
                    None => at = Cursor::new_year(at.year + 1),
                }
            } else if !self.days.matches(at.date()?) {
                at.next_day();
            } else if !self.hours.contains(i32::from(at.hour)) {
                match self.hours.first_from(i32::from(at.hour) + 1) {
                    Some(hour) => {
                        at.hour = u8::try_from(hour).ok()?;
                        at.minute = 0;
                    }
                    None => at.next_day(),
                }
            } else {
                match self.minutes.first_from(i32::from(at.minute)) {
                    Some(minute) => {
                        at.minute = u8::try_from(minute).ok()?;
                        return at.instant();
                    }
                    None => at.next_hour(),
                }
            }
        }
    }
}

/// A whole minute being considered, moved forward field by field.
struct Cursor {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
}

impl Cursor {
    fn new_year(year: i32) -> Self {
        Self {
            year,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
        }
    }

    fn start_month(&mut self, month: u8) {
        self.month = month;
        self.day = 1;
        self.hour = 0;
        self.minute = 0;
    }

    fn month_length(&self) -> u8 {
        Month::try_from(self.month).map_or(31, |m| m.length(self.year))
    }

    fn next_day(&mut self) {
        if self.day >= self.month_length() {
            if self.month == 12 {
                *self = Self::new_year(self.year + 1);
            } else {
                self.start_month(self.month + 1);
            }
        } else {
            self.day += 1;
            self.hour = 0;
            self.minute = 0;
        }
    }

    fn next_hour(&mut self) {
        if self.hour == 23 {
            self.next_day();
        } else {
            self.hour += 1;
            self.minute = 0;
        }
    }

    fn next_minute(&mut self) {
        if self.minute == 59 {
            self.next_hour();
        } else {
            self.minute += 1;
        }
    }

    fn date(&self) -> Option<Date> {
        Date::from_calendar_date(self.year, Month::try_from(self.month).ok()?, self.day).ok()
    }

    fn instant(&self) -> Option<OffsetDateTime> {
        let time = Time::from_hms(self.hour, self.minute, 0).ok()?;
        Some(PrimitiveDateTime::new(self.date()?, time).assume_utc())
    }
}
