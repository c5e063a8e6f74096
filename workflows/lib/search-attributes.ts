import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (Keyword) registered on the dev server and required on production clusters. */
export const WabaCluster = defineSearchAttributeKey('WabaCluster', SearchAttributeType.KEYWORD);
export const WabaRunbook = defineSearchAttributeKey('WabaRunbook', SearchAttributeType.KEYWORD);
export const WabaStep = defineSearchAttributeKey('WabaStep', SearchAttributeType.KEYWORD);

/** Set by the server on runs a Schedule started (the schedule's id); a start request cannot set it. */
export const TemporalScheduledById = defineSearchAttributeKey(
  'TemporalScheduledById',
  SearchAttributeType.KEYWORD,
);
