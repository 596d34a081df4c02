/** A product event as the catalog publishes it (the data of the CloudEvent). */
export const validData = {
  eventId: '6f1c1f7e-2a4b-4c55-9d1e-3b2f9b1c0a11',
  eventType: 'product.created',
  occurredAt: '2026-01-02T03:04:05.678Z',
  product: { id: 7, name: 'Pen', type: 'Office', price: 2.5 },
  message: 'Product Added. Name - Pen, Type - Office, Price - 2.5',
};
