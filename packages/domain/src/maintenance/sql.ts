/*
 * The stats job keeps its figures as jsonb documents (one row per snapshot), so the series the
 * charts need are read with plain SQL that unnests those documents: the ORM would load every
 * snapshot whole, statements and index lists included, to use a few numbers of each.
 *
 * A document's arrays are unnested only when they are arrays (`jsonb_typeof`), and numbers
 * leave as jsonb for the domain to check: a snapshot of another shape (an older job, a hand-made
 * row) yields nulls instead of failing the whole query on a cast.
 */

/** `$1` as a jsonb array, or an empty one when it is missing or of another type. */
const arrayOf = (value: string) => `case jsonb_typeof(${value}) when 'array' then ${value} else '[]'::jsonb end`;

/**
 * The snapshots taken in [$1, $2], thinned to at most $3: the newest of each of $3 equal slices
 * of the range. Without the thinning, 90 days of hourly snapshots would send 2,160 points per
 * table to a chart a few hundred pixels wide. Reads stats_snapshots_taken_at_index.
 */
export const SIZE_SERIES = `
  with in_range as (
    select id, taken_at, least(width_bucket(extract(epoch from taken_at),
                                            extract(epoch from $1::timestamptz),
                                            extract(epoch from $2::timestamptz), $3::int), $3::int) as slice
      from stats_snapshots
     where taken_at >= $1::timestamptz and taken_at <= $2::timestamptz
  ),
  picked as (
    select distinct on (slice) id, taken_at from in_range order by slice, taken_at desc
  )
  select to_json(p.taken_at) #>> '{}' as taken_at,
         s.database -> 'databaseBytes' as database_bytes,
         (select coalesce(jsonb_agg(jsonb_build_object(
                   'table', t -> 'table', 'tableBytes', t -> 'tableBytes', 'indexBytes', t -> 'indexBytes',
                   'deadTuples', t -> 'deadTuples', 'liveTuples', t -> 'liveTuples', 'totalBytes', t -> 'totalBytes')),
                 '[]'::jsonb)
            from jsonb_array_elements(${arrayOf(`s.database -> 'tables'`)}) t) as tables,
         (select count(*) from in_range)::int as in_range
    from picked p join stats_snapshots s on s.id = p.id
   order by p.taken_at`;

/**
 * Each UTC day from $3 (a date) that a snapshot taken in [$1, $2] covers, with its figures from
 * the newest snapshot covering it: an earlier one counted the day before it was over. Only the
 * newest snapshot of each UTC day is read (the newest covering a day is always the newest of its
 * own day), so an hourly job's 24 product documents per day are not each unpacked.
 */
export const DAY_SERIES = `
  with daily as (
    select distinct on ((taken_at at time zone 'UTC')::date) id, taken_at, product
      from stats_snapshots
     where taken_at >= $1::timestamptz and taken_at <= $2::timestamptz
     order by (taken_at at time zone 'UTC')::date, taken_at desc
  ),
  days as (
    select distinct on (d ->> 'day') d ->> 'day' as day, d as figures, s.product
      from daily s cross join lateral jsonb_array_elements(${arrayOf(`s.product -> 'days'`)}) d
     where jsonb_typeof(d -> 'day') = 'string' and d ->> 'day' >= $3::text
     order by d ->> 'day', s.taken_at desc
  )
  select day, figures,
         (select coalesce(jsonb_agg(m order by position), '[]'::jsonb)
            from jsonb_array_elements(${arrayOf(`product -> 'byDayAndModel'`)}) with ordinality as models(m, position)
           where m ->> 'day' = days.day) as models
    from days
   order by day`;
