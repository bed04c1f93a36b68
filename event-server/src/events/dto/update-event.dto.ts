import { PartialType } from '@nestjs/swagger';
import { CreateEventDto } from './create-event.dto.js';

/** Any subset of the create body; the merged event is validated as a whole. */
export class UpdateEventDto extends PartialType(CreateEventDto) {}
