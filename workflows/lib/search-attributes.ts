import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (Keyword) registered on the dev server and required on production clusters. */
export const WabaCluster = defineSearchAttributeKey('WabaCluster', SearchAttributeType.KEYWORD);
export const WabaRunbook = defineSearchAttributeKey('WabaRunbook', SearchAttributeType.KEYWORD);
export const WabaStep = defineSearchAttributeKey('WabaStep', SearchAttributeType.KEYWORD);
