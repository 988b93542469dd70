/* The salesforce adapter (issue 15): a placeholder table until its verify/parse land. A source
 * without verify is refused by fastepost_webhook_process() (ENOKEY): nothing is written. */
#include "adapters/adapter.h"

const fastepost__adapter fastepost__salesforce_adapter = {
    .source = "salesforce",
};
